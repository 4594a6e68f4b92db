-- The web application: sign-in sessions, API tokens, and each user's language.
-- Tokens are random 256-bit values given to the client once; only their SHA-256 (hex) is
-- stored, so a copy of the database does not let anyone sign in.

alter table staff_users add column language text check (language in ('de', 'en'));

create table sessions (
    id bigint generated always as identity primary key,
    token_hash text not null unique,
    user_id bigint not null references staff_users (id) on delete cascade,
    -- Synchronizer token: every state-changing request of this session must carry it.
    csrf_token text not null,
    created_at timestamptz not null,
    expires_at timestamptz not null
);
create index sessions_user on sessions (user_id);

create table api_tokens (
    id bigint generated always as identity primary key,
    token_hash text not null unique,
    user_id bigint not null references staff_users (id) on delete cascade,
    name text not null,
    created_at timestamptz not null,
    last_used_at timestamptz,
    revoked_at timestamptz
);
create index api_tokens_user on api_tokens (user_id);

-- The customer list filters by owner and pages by id (keyset): (account_owner, id) lets a
-- sales user's page be read from the index without scanning other owners' customers.
create index customers_owner_id on customers (account_owner, id);
