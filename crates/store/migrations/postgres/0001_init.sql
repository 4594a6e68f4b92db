-- winback's base schema: what a user imports (customers, orders, order lines, products,
-- complaints, contracts, consents, referrals), staff users, and the import log.
-- Instants are timestamptz, calendar dates as date,
-- money as integer cents.

create table customers (
    id bigint generated always as identity primary key,
    external_id text not null unique,
    name text,
    party text check (party in ('b2b', 'b2c')),
    email text,
    phone text,
    street text,
    postal_code text,
    city text,
    country text,
    segment text,
    industry text,
    -- e-mail address of the staff user who owns the account; a text, not a foreign key,
    -- because imports may name owners before their user accounts exist.
    account_owner text,
    created_at timestamptz,
    imported_at timestamptz not null
);
-- Orders of shops like Shopify refer to customers only by e-mail address.
create index customers_email on customers (email);
create index customers_account_owner on customers (account_owner);

create table products (
    id bigint generated always as identity primary key,
    sku text not null unique,
    name text,
    category text,
    price_cents bigint,
    delisted_on date
);

create table orders (
    id bigint generated always as identity primary key,
    external_id text not null unique,
    customer_id bigint not null references customers (id),
    ordered_at timestamptz not null,
    gross_cents bigint not null,
    margin_cents bigint,
    cost_cents bigint,
    discount_cents bigint not null default 0,
    voucher_code text,
    delivery_promised_on date,
    delivered_on date,
    channel text,
    currency text,
    returned boolean not null default false,
    cancelled boolean not null default false
);
-- Every analysis reads a customer's orders in time order.
create index orders_customer_ordered_at on orders (customer_id, ordered_at);

create table order_lines (
    id bigint generated always as identity primary key,
    order_id bigint not null references orders (id),
    line_no integer not null,
    sku text,
    product_name text,
    quantity bigint not null,
    unit_price_cents bigint not null,
    discount_cents bigint not null default 0,
    unique (order_id, line_no)
);
create index order_lines_sku on order_lines (sku);

create table complaints (
    id bigint generated always as identity primary key,
    external_id text not null unique,
    customer_id bigint not null references customers (id),
    order_external_id text,
    opened_at timestamptz not null,
    first_response_at timestamptz,
    resolved_at timestamptz,
    satisfied text not null default 'unknown' check (satisfied in ('yes', 'no', 'unknown')),
    category text,
    body text
);
create index complaints_customer on complaints (customer_id, opened_at);

create table contracts (
    id bigint generated always as identity primary key,
    external_id text not null unique,
    customer_id bigint not null references customers (id),
    product text,
    started_on date not null,
    ends_on date,
    renewal_on date,
    monthly_value_cents bigint,
    cancellation_received_at timestamptz,
    cancellation_effective_on date,
    cancellation_reason text
);
create index contracts_customer on contracts (customer_id);

-- Consent history per channel: every grant, withdrawal and objection is a row of its own,
-- so the state at any moment (and its proof) can be reconstructed. Nothing is overwritten.
create table consents (
    id bigint generated always as identity primary key,
    customer_id bigint not null references customers (id),
    channel text not null check (channel in ('email', 'phone', 'post', 'messenger')),
    status text not null check (status in ('granted', 'revoked', 'objection')),
    recorded_at timestamptz not null,
    source text,
    proof text,
    unique (customer_id, channel, status, recorded_at)
);

create table referrals (
    id bigint generated always as identity primary key,
    referrer_id bigint not null references customers (id),
    referred_id bigint not null references customers (id),
    referred_on date not null,
    thanked_at timestamptz,
    unique (referrer_id, referred_id)
);

create table staff_users (
    id bigint generated always as identity primary key,
    email text not null unique,
    name text,
    role text not null check (role in ('admin', 'manager', 'sales', 'analyst')),
    capacity_per_week integer,
    winback_experience text check (winback_experience in ('novice', 'experienced', 'expert')),
    password_hash text,
    disabled_at timestamptz,
    created_at timestamptz not null
);

-- One row per committed import, for the audit trail and the import page.
create table imports (
    id bigint generated always as identity primary key,
    kind text not null,
    file_name text not null,
    file_bytes bigint not null,
    rows_read bigint not null,
    rows_inserted bigint not null,
    rows_updated bigint not null,
    rows_unchanged bigint not null,
    rows_rejected bigint not null,
    started_at timestamptz not null,
    finished_at timestamptz not null
);
