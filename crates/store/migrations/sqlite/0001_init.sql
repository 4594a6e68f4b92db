-- winback's base schema: what a user imports (customers, orders, order lines, products,
-- complaints, contracts, consents, referrals), staff users, and the import log.
-- Instants are stored as RFC 3339 text in UTC, calendar dates as 'yyyy-mm-dd' text,
-- money as integer cents.

create table customers (
    id integer primary key,
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
    created_at text,
    imported_at text not null
);
-- Orders of shops like Shopify refer to customers only by e-mail address.
create index customers_email on customers (email);
create index customers_account_owner on customers (account_owner);

create table products (
    id integer primary key,
    sku text not null unique,
    name text,
    category text,
    price_cents integer,
    delisted_on text
);

create table orders (
    id integer primary key,
    external_id text not null unique,
    customer_id integer not null references customers (id),
    ordered_at text not null,
    gross_cents integer not null,
    margin_cents integer,
    cost_cents integer,
    discount_cents integer not null default 0,
    voucher_code text,
    delivery_promised_on text,
    delivered_on text,
    channel text,
    currency text,
    returned integer not null default 0 check (returned in (0, 1)),
    cancelled integer not null default 0 check (cancelled in (0, 1))
);
-- Every analysis reads a customer's orders in time order.
create index orders_customer_ordered_at on orders (customer_id, ordered_at);

create table order_lines (
    id integer primary key,
    order_id integer not null references orders (id),
    line_no integer not null,
    sku text,
    product_name text,
    quantity integer not null,
    unit_price_cents integer not null,
    discount_cents integer not null default 0,
    unique (order_id, line_no)
);
create index order_lines_sku on order_lines (sku);

create table complaints (
    id integer primary key,
    external_id text not null unique,
    customer_id integer not null references customers (id),
    order_external_id text,
    opened_at text not null,
    first_response_at text,
    resolved_at text,
    satisfied text not null default 'unknown' check (satisfied in ('yes', 'no', 'unknown')),
    category text,
    body text
);
create index complaints_customer on complaints (customer_id, opened_at);

create table contracts (
    id integer primary key,
    external_id text not null unique,
    customer_id integer not null references customers (id),
    product text,
    started_on text not null,
    ends_on text,
    renewal_on text,
    monthly_value_cents integer,
    cancellation_received_at text,
    cancellation_effective_on text,
    cancellation_reason text
);
create index contracts_customer on contracts (customer_id);

-- Consent history per channel: every grant, withdrawal and objection is a row of its own,
-- so the state at any moment (and its proof) can be reconstructed. Nothing is overwritten.
create table consents (
    id integer primary key,
    customer_id integer not null references customers (id),
    channel text not null check (channel in ('email', 'phone', 'post', 'messenger')),
    status text not null check (status in ('granted', 'revoked', 'objection')),
    recorded_at text not null,
    source text,
    proof text,
    unique (customer_id, channel, status, recorded_at)
);

create table referrals (
    id integer primary key,
    referrer_id integer not null references customers (id),
    referred_id integer not null references customers (id),
    referred_on text not null,
    thanked_at text,
    unique (referrer_id, referred_id)
);

create table staff_users (
    id integer primary key,
    email text not null unique,
    name text,
    role text not null check (role in ('admin', 'manager', 'sales', 'analyst')),
    capacity_per_week integer,
    winback_experience text check (winback_experience in ('novice', 'experienced', 'expert')),
    password_hash text,
    disabled_at text,
    created_at text not null
);

-- One row per committed import, for the audit trail and the import page.
create table imports (
    id integer primary key,
    kind text not null,
    file_name text not null,
    file_bytes bigint not null,
    rows_read integer not null,
    rows_inserted integer not null,
    rows_updated integer not null,
    rows_unchanged integer not null,
    rows_rejected integer not null,
    started_at text not null,
    finished_at text not null
);
