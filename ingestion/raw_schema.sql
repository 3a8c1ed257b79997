-- The raw layer: what ingestion lands, append-only. Applied idempotently before every load.
-- Every landed table: typed key columns + the record as JSONB + load metadata (_load_id, _extracted_at,
-- _logical_date, _request). A unique key per entity makes redelivery a no-op: the first delivery wins (a redelivery
-- with different content is quarantined with both versions, see ingestion/loader.py).

create schema if not exists raw;

-- One row per load (source × entity × night attempt): what came in, what was kept, what was refused.
create table if not exists raw._loads (
    load_id          uuid primary key,
    source           text not null,
    entity           text not null,
    logical_date     date not null,
    started_at       timestamptz not null,
    finished_at      timestamptz,
    status           text not null check (status in ('running', 'success', 'failed', 'aborted')),
    rows_received    integer not null default 0,
    rows_inserted    integer not null default 0,
    rows_duplicate   integer not null default 0,
    rows_quarantined integer not null default 0,
    api_calls        integer not null default 0,
    error            text,
    backend_pid      integer,
    backend_start    timestamptz
);

-- Records that failed validation: never dropped silently, kept here with the reason.
create table if not exists raw._quarantine (
    quarantine_id  bigserial primary key,
    load_id        uuid not null,
    source         text not null,
    entity         text not null,
    reason         text not null,
    record         text not null,
    quarantined_at timestamptz not null default now()
);

-- File drops (issue 14): every version of every file landed, by name and checksum, so a late file or a corrected
-- one lands on the next run (see ingestion/file_manifest.py). A corrected file supersedes the version landed before:
-- that version's rows move from the raw table to raw._superseded_rows (kept whole, as JSON), and its manifest row
-- names the load that superseded it; one current version per file. In a DO block, like the consent tables below:
-- applied before every load, it takes no lock once the tables exist.
do $$
begin
    if to_regclass('raw._file_manifest') is null then
        create table raw._file_manifest (
            manifest_id        bigserial primary key,
            source             text not null,
            entity             text not null,
            file_name          text not null,
            sha256             text not null,
            size_bytes         bigint not null,
            rows_read          integer not null,  -- records read from the file (valid rows, duplicates included)
            rows_quarantined   integer not null,  -- lines of the file refused (raw._quarantine of the same load)
            request            text not null,     -- the path its rows carry in `_request`
            load_id            uuid not null,
            landed_at          timestamptz not null,
            superseded_by_load uuid,              -- the load that landed a corrected version of the file
            superseded_at      timestamptz
        );
        create unique index _file_manifest__current
            on raw._file_manifest (source, entity, file_name) where superseded_at is null;
    end if;
    if to_regclass('raw._superseded_rows') is null then
        create table raw._superseded_rows (
            manifest_id   bigint not null references raw._file_manifest,  -- the file version the row came from
            source        text not null,
            entity        text not null,
            row           jsonb not null,  -- the raw table's row as it was, every column
            superseded_at timestamptz not null
        );
    end if;
end
$$;

-- Incremental state (cursors, watermarks), committed in the same transaction as the rows it covers.
create table if not exists raw._ingestion_state (
    source     text not null,
    entity     text not null,
    state      jsonb not null,
    load_id    uuid not null,
    updated_at timestamptz not null,
    primary key (source, entity)
);

-- Advocacy platform shares export (file drop): one row per share.
create table if not exists raw.advocacy__shares (
    share_id      text not null unique,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null
);

-- LinkedIn memberCreatorPostAnalytics, aggregation TOTAL: one cumulative count per post × metric × night.
create table if not exists raw.linkedin__member_post_analytics (
    post_urn      text not null,
    metric_type   text not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (post_urn, metric_type, _logical_date)
);

-- HR roster export (file drop): the full roster of each night, one row per employee × logical date.
create table if not exists raw.hr__roster (
    employee_id   text not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (employee_id, _logical_date)
);

-- Typeform responses: one row per submitted response.
create table if not exists raw.typeform__responses (
    form_id        text not null,
    response_token text not null,
    submitted_at   timestamptz not null,
    payload        jsonb not null,
    _load_id       uuid not null,
    _extracted_at  timestamptz not null,
    _logical_date  date not null,
    _request       text not null,
    unique (form_id, response_token)
);

-- X API v2 post lookup: one tweet object (with its public / non-public / organic metrics) per post × night.
create table if not exists raw.x__tweet_metrics (
    tweet_id      text not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (tweet_id, _logical_date)
);

-- Bitly v4 clicks per tracking link per day (every source, not only the posts): one row per link × complete day.
create table if not exists raw.bitly__link_clicks (
    bitlink       text not null,
    click_date    date not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (bitlink, click_date)
);

-- SurveyMonkey bulk responses: one row per response version (a response edited later lands again).
create table if not exists raw.surveymonkey__responses (
    survey_id     text not null,
    response_id   text not null,
    date_modified timestamptz not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (survey_id, response_id, date_modified)
);

-- SurveyMonkey survey details (`GET /v3/surveys/{id}/details`): the survey's pages, questions and choices (with
-- their positions, the scale points), fetched once per survey and night; a survey edited between two fetches of a
-- night lands both versions.
create table if not exists raw.surveymonkey__survey_details (
    survey_id     text not null,
    date_modified timestamptz not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (survey_id, date_modified, _logical_date)
);

-- Qualtrics response exports: one row per recorded response.
create table if not exists raw.qualtrics__responses (
    survey_id     text not null,
    response_id   text not null,
    recorded_date timestamptz not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (survey_id, response_id)
);

-- LinkedIn organizationalEntityShareStatistics of the company page, per day (timeGranularityType DAY).
create table if not exists raw.linkedin__organization_daily_statistics (
    organization_urn text not null,
    day              date not null,
    payload          jsonb not null,
    _load_id         uuid not null,
    _extracted_at    timestamptz not null,
    _logical_date    date not null,
    _request         text not null,
    unique (organization_urn, day)
);

-- LinkedIn organizationalEntityShareStatistics of each company page post (lifetime counts) per night fetched.
create table if not exists raw.linkedin__organization_post_statistics (
    post_urn      text not null,
    payload       jsonb not null,
    _load_id      uuid not null,
    _extracted_at timestamptz not null,
    _logical_date date not null,
    _request      text not null,
    unique (post_urn, _logical_date)
);

-- The shares of a tracking link, and of a post: an incremental build of marts.fct_shares splits a link's clicks
-- over all its shares, and the audit finds the share of each post a night's readings counted; both read by key
-- instead of reading every share.
create index if not exists advocacy__shares__tracking_link on raw.advocacy__shares ((payload ->> 'tracking_link'));
create index if not exists advocacy__shares__post_id on raw.advocacy__shares ((payload ->> 'post_id'));

-- By extraction time, on every landed table: the audit reads the rows that arrived since its last pass
-- (expectations/arrivals.py), freshness reads the newest, and the incremental models what landed since their
-- last build. raw._loads by finish: the loads that committed after an audit started (expectations/arrivals.py).
create index if not exists advocacy__shares__extracted_at on raw.advocacy__shares (_extracted_at);
create index if not exists linkedin__member_post_analytics__extracted_at
    on raw.linkedin__member_post_analytics (_extracted_at);
create index if not exists hr__roster__extracted_at on raw.hr__roster (_extracted_at);
create index if not exists typeform__responses__extracted_at on raw.typeform__responses (_extracted_at);
create index if not exists x__tweet_metrics__extracted_at on raw.x__tweet_metrics (_extracted_at);
create index if not exists bitly__link_clicks__extracted_at on raw.bitly__link_clicks (_extracted_at);
create index if not exists surveymonkey__responses__extracted_at on raw.surveymonkey__responses (_extracted_at);
create index if not exists surveymonkey__survey_details__extracted_at
    on raw.surveymonkey__survey_details (_extracted_at);
create index if not exists qualtrics__responses__extracted_at on raw.qualtrics__responses (_extracted_at);
create index if not exists linkedin__organization_daily_statistics__extracted_at
    on raw.linkedin__organization_daily_statistics (_extracted_at);
create index if not exists linkedin__organization_post_statistics__extracted_at
    on raw.linkedin__organization_post_statistics (_extracted_at);
create index if not exists _loads__finished_at on raw._loads (finished_at);

-- Member consent (issue 13). Applied before every load, so written to take no lock once applied (an `alter table`
-- or `create index … if not exists` locks the table before it checks, and would deadlock with concurrent loads).
-- raw.x__tweet_metrics.metrics_access: how an X post's metrics were read — `user_context` (its author's own token:
-- non-public and organic metrics, so link clicks) or `app_public` (the app's token: public metrics only, no
-- click-through rate). raw.consent__member_token_status: each night's status of every member token per network
-- (never a token value), what consent coverage (`bi.consent_coverage`) is computed from.
do $$
begin
    if not exists (
        select from pg_attribute
        where attrelid = to_regclass('raw.x__tweet_metrics') and attname = 'metrics_access' and not attisdropped
    ) then
        alter table raw.x__tweet_metrics add column metrics_access text;
    end if;
    if to_regclass('raw.consent__member_token_status') is null then
        create table raw.consent__member_token_status (
            employee_id   text not null,
            network       text not null,
            status        text not null,
            payload       jsonb not null,
            _load_id      uuid not null,
            _extracted_at timestamptz not null,
            _logical_date date not null,
            _request      text not null,
            unique (employee_id, network, _logical_date)
        );
        create index consent__member_token_status__extracted_at
            on raw.consent__member_token_status (_extracted_at);
    end if;
end
$$;

-- Abandoned loads (issue 14). raw._loads.backend_pid / backend_start: the warehouse session a load runs in. A
-- `running` load whose session is gone was killed (or lost its connection) before it could record an outcome; the
-- next load marks it `aborted` (ingestion.loader). Added to warehouses created before, without a lock once applied.
do $$
begin
    if not exists (
        select from pg_attribute
        where attrelid = to_regclass('raw._loads') and attname = 'backend_pid' and not attisdropped
    ) then
        alter table raw._loads add column backend_pid integer, add column backend_start timestamptz;
        alter table raw._loads drop constraint if exists _loads_status_check;
        alter table raw._loads add constraint _loads_status_check
            check (status in ('running', 'success', 'failed', 'aborted'));
    end if;
end
$$;

-- Quarantine once (issue 15). A rerun of a night refuses the same records again (an X post deleted, a member's
-- revoked token): raw._quarantine keeps one row per source, entity, reason and record — the first load that
-- refused it — so a record refused again as it was counts as a duplicate of that load, not a new quarantine. A
-- record whose content differs is a new row (a conflicting redelivery names both versions and its own load, so
-- every one stays visible). The key indexes md5 digests: a record can be larger than an index entry may be (md5 is
-- immutable, which an index needs; the sha256 of a text is not). Warehouses created before lose their repeated rows
-- (the first of each stays) and get the key, once.
do $$
begin
    if to_regclass('raw._quarantine__once') is null then
        delete from raw._quarantine q using raw._quarantine earlier
            where earlier.source = q.source and earlier.entity = q.entity and earlier.reason = q.reason
              and earlier.record = q.record and earlier.quarantine_id < q.quarantine_id;
        create unique index _quarantine__once on raw._quarantine (source, entity, md5(reason), md5(record));
    end if;
end
$$;
