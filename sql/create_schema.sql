-- The whole schema, portable between SQLite and PostgreSQL; running it again changes nothing.
-- Every registry ever imported (SPEC §1: restructuring is recorded, not overwritten): a period
-- is consolidated under the version in force on its last day, the newest whose `effective_from`
-- is not after that day (null: from the beginning, the first import). A unit ended or removed
-- by a later import stays in the earlier versions, and in later ones with its `valid_to`.
create table if not exists registry_version (
    number integer primary key,
    effective_from date,
    imported_at timestamp not null,
    file_name text
);

-- Each version's units; `position` (pre-order) and `level` (0 for the province) place them in
-- that version's hierarchy.
create table if not exists unit (
    registry_version integer not null,
    code varchar(64) not null,
    name text not null,
    parent_code varchar(64),
    kind varchar(32) not null,
    sector varchar(32),
    valid_from date,
    valid_to date,
    email text,
    position integer not null,
    level integer not null,
    primary key (registry_version, code)
);

-- One row per (ancestor, descendant) pair of a version, each unit with itself at depth 0: any
-- roll-up is one join.
create table if not exists unit_closure (
    registry_version integer not null,
    ancestor varchar(64) not null,
    descendant varchar(64) not null,
    depth integer not null,
    primary key (registry_version, ancestor, descendant)
);

create index if not exists unit_closure_by_version_descendant on unit_closure (
    registry_version, descendant
);

-- Where an ended unit's figures continue (SPEC §1, the successor CSV): `share` 1 for a merge
-- or a move, shares summing to 1 for a split, from `effective` on. Comparisons across periods
-- and longer periods that straddle the change follow these.
create table if not exists unit_successor (
    code varchar(64) not null,
    successor_code varchar(64) not null,
    share double precision not null,
    effective date not null,
    registry_version integer not null,
    primary key (code, successor_code)
);

-- Every file ever received, kept once per (folder unit, checksum). `file_name` is the name as
-- people read it; `raw_file_name` holds its bytes in hex when that cannot give them back (a
-- name that is not UTF-8). `arrival` orders versions as the collector first saw them (SPEC §5).
-- An entry refused unopened (a link, a folder) has an empty `archive_path`: nothing was kept.
-- `sender` is the address a file came from by e-mail (lower case, no display name); null for a
-- file of the folder inbox.
create table if not exists submission (
    id varchar(40) primary key,
    unit_code varchar(64) not null,
    period varchar(8) not null,
    file_name text not null,
    raw_file_name text,
    sha256 char(64) not null,
    size_bytes bigint not null,
    received_at timestamp not null,
    arrival bigint,
    archive_path text not null,
    declared_unit_code text,
    declared_period text,
    outcome varchar(32) not null,
    error_count integer not null,
    warning_count integer not null,
    processed_at timestamp not null,
    sender text,
    unique (unit_code, sha256)
);

create index if not exists submission_by_period on submission (period, unit_code);

create index if not exists submission_by_arrival on submission (arrival);

-- What each inbox file looked like when it was last read, so that an unchanged file (same name,
-- size and modification time) is never read again; written with the submissions it led to.
-- `unit_code` is the folder's own name, `file_name` a lossless key (tonghop/text.py name_key).
create table if not exists inbox_file (
    unit_code varchar(64) not null,
    file_name text not null,
    size_bytes bigint not null,
    mtime_ns bigint not null,
    sha256 char(64) not null,
    primary key (unit_code, file_name)
);

-- Values of accepted submissions only: rejected ones are never counted.
create table if not exists submission_value (
    submission_id varchar(40) not null,
    indicator_code varchar(64) not null,
    number double precision,
    text_value text,
    primary key (submission_id, indicator_code)
);

create table if not exists problem (
    submission_id varchar(40) not null,
    seq integer not null,
    rule varchar(8) not null,
    severity varchar(8) not null,
    indicator_code text,
    row_number integer,
    message text not null,
    primary key (submission_id, seq)
);

-- Each publication of a period: version 1, then a new version whenever what is published
-- changes; `published_at` stays null until every file of the version is written.
create table if not exists publication (
    period varchar(16) not null,
    version integer not null,
    fingerprint char(64) not null,
    created_at timestamp not null,
    published_at timestamp,
    primary key (period, version)
);

-- The consolidated figures of each version, kept for good so that versions can be compared.
create table if not exists published_value (
    period varchar(16) not null,
    version integer not null,
    unit_code varchar(64) not null,
    indicator_code varchar(64) not null,
    number double precision,
    text_value text,
    primary key (period, version, unit_code, indicator_code)
);

-- Each expected unit's status in each version, and the submission that counted for it.
create table if not exists published_status (
    period varchar(16) not null,
    version integer not null,
    unit_code varchar(64) not null,
    status varchar(32) not null,
    on_time integer,
    submission_id varchar(40),
    received_at timestamp,
    file_name text,
    errors integer not null,
    warnings integer not null,
    -- a longer period's: each quarter's outcome (`2025Q1:accepted,2025Q2:missing`)
    quarters text,
    primary key (period, version, unit_code)
);

-- Every registry import, so that a consolidation knows whether the registry moved since.
create table if not exists registry_import (
    imported_at timestamp not null
);

-- What each version was computed from (see select_period_inputs.sql): a run whose inputs have
-- not moved since the published version skips consolidating and publishing altogether.
create table if not exists publication_input (
    period varchar(16) not null,
    version integer not null,
    signature text not null,
    primary key (period, version)
);

-- Replaced by the versioned tables above; it only ever held derived figures.
drop table if exists consolidated;

-- The version that counts: each unit's latest accepted submission of a period.
drop view if exists counted_submission;

create view counted_submission as
with accepted as (
    select
        id,
        unit_code,
        period,
        received_at,
        row_number() over (
            partition by unit_code, period order by arrival desc
        ) as recency
    from submission
    where outcome in ('accepted', 'accepted_with_warnings')
)
select id, unit_code, period, received_at
from accepted
where recency = 1;

-- Each unit's latest received submission of a period, whatever its outcome, and how many files
-- the unit sent for the period (so the latest is its `submission_number`-th).
drop view if exists latest_submission;

create view latest_submission as
with ranked as (
    select
        id,
        unit_code,
        period,
        file_name,
        received_at,
        row_number() over (
            partition by unit_code, period order by arrival desc
        ) as recency,
        count(*) over (partition by unit_code, period) as submission_number
    from submission
)

select id, unit_code, period, file_name, received_at, submission_number
from ranked
where recency = 1;

-- When each unit's first accepted submission of a period arrived: what timeliness is judged on.
drop view if exists first_accepted_submission;

create view first_accepted_submission as
select unit_code, period, min(received_at) as received_at
from submission
where outcome in ('accepted', 'accepted_with_warnings')
group by unit_code, period;

-- Every automatic e-mail, of every kind (reminder, report, …), one row per run that tried it:
-- its intent is recorded (state 'sending') before it is sent and its outcome ('sent' or
-- 'failed', with attempts and the reason) after. A rerun skips the fingerprints already sent
-- and shows those still 'sending' as unconfirmed instead of sending them again. version is null
-- for letters not about a published version; times are naive, in the operators' time zone.
create table if not exists outbox_message (
    id varchar(100) primary key,
    kind varchar(16) not null,
    period varchar(16) not null,
    version integer,
    about_code varchar(64) not null,
    recipient text,
    fingerprint char(64) not null,
    state varchar(8) not null,
    attempts integer not null,
    error text,
    queued_at timestamp not null,
    ended_at timestamp
);

create index if not exists outbox_message_by_scope on outbox_message (
    kind, period, version, fingerprint
);

-- Every e-mail the collector took from the province's mailbox (SPEC §3), recorded in the same
-- transaction as the submissions it carried, before it is moved to the processed folder: a run
-- that dies in between finds it again next time, recognises its checksum and only moves it.
-- disposition: 'forms' (it carried forms of units the sender may report for), 'automatic' (an
-- auto-reply or delivery report: never answered), 'no_form', 'stranger', 'oversized'; refusal
-- is what its sender is answered when something in it was not accepted (null: nothing to say).
-- archive_path is the .eml kept byte for byte (for an oversized one, its header alone).
create table if not exists mail_message (
    id varchar(40) primary key,
    sha256 char(64) not null unique,
    period varchar(8) not null,
    message_id text,
    sender text,
    subject text,
    received_at timestamp not null,
    size_bytes bigint not null,
    archive_path text not null,
    disposition varchar(16) not null,
    form_count integer not null,
    refusal text,
    processed_at timestamp not null
);

-- The web portal's personal links (tonghop/portal/access.py): one active link per unit at a
-- time; only the SHA-256 of its random secret is kept, so a copy of the database opens nothing.
-- A link is revoked when it is rotated, revoked by the operator, or past `expires_at`.
create table if not exists portal_link (
    id varchar(40) primary key,
    unit_code varchar(64) not null,
    secret_sha256 char(64) not null unique,
    created_at timestamp not null,
    expires_at timestamp not null,
    revoked_at timestamp
);

create index if not exists portal_link_by_unit on portal_link (unit_code);

-- A signed-in visitor of the portal: a unit that opened its link (`link_id`) or an operator
-- (`operator`); the browser holds the random token, the database its SHA-256 and the token
-- every form that changes something must carry back (`csrf`).
create table if not exists portal_session (
    token_sha256 char(64) primary key,
    unit_code varchar(64),
    link_id varchar(40),
    operator text,
    csrf char(64) not null,
    created_at timestamp not null,
    expires_at timestamp not null
);
