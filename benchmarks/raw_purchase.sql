-- The raw PostgreSQL reference of one complete purchase (benchmarks/marketplace.py; issue 13 "Performance").
--
-- A pgbench script (`pgbench -n -M prepared -f raw_purchase.sql -D cards=N -D courses=N -D platforms=N`): the rows
-- the three signed calls of a purchase read and write today (card inquiry, purchase creation, confirmation), in
-- plain SQL with no application code (no function of ours is called: the idempotency claim, the ledger's posting
-- and procrastinate's defer are written out), on the same tables with their indexes, constraints and triggers (the
-- audit chain's link at commit, procrastinate's event row), and with the same statements and commits (ADR 0043):
-- per call one transaction, `BEGIN`, one statement that records the signature, counts the call in its shard of
-- the minute (the server process's) and claims the idempotency key, gating the call's read on both, one statement
-- that writes the call's rows with its stored answer (the inquiry: the stored answer alone), and a durable
-- `COMMIT`. Values are made here (random signatures, keys, codes; `uuidv7()` ids, as our
-- uuid7 ids; ciphertexts and response bodies as constants of the same sizes). What pgbench cannot hold (uuid and
-- bytea choices) comes from three small tables `benchmarks/raw_purchase.py` makes: one index probe each, the price
-- of picking a card, a course and a platform at random.
--
-- Derived from the statements the app sends (PostgreSQL's `log_min_duration_statement = 0` during purchases;
-- `tests/benchmarks/test_raw_purchase.py` checks, on a scratch database, that one run of this script writes the
-- same number of rows to the same tables as one purchase through the signed API, so it cannot drift silently).
-- Not here: the load client's read of the one-time code (the participant's phone; taken off ours too), the
-- webhook deliveries and their jobs (the benchmark's partners have no webhook endpoint, so a purchase writes none).

\set pick_card random(1, :cards)
\set pick_course random(1, :courses)
\set pick_platform random(1, :platforms)
\set tag random(1, 4611686018427387903)

-- ---- 1. POST /partner/v1/cards/inquiry ---------------------------------------------------------------------------

\set sig random(1, 4611686018427387903)
BEGIN;
WITH cred AS (
    SELECT c.id, c.partner_id, c.revoked_at, p.status,
           (SELECT count(*) FROM auth_partner_keys k WHERE k.credential_id = c.id) AS keys
    FROM bench_raw_platforms b JOIN auth_partner_credentials c ON c.id = b.credential_id
    JOIN auth_partners p ON p.id = c.partner_id
    WHERE b.n = :pick_platform::int
), seen AS (
    INSERT INTO partner_seen_signatures (credential_id, signature, expires_at)
    SELECT id, sha256(int8send(:sig::bigint)), now() + interval '5 minutes' FROM cred
    ON CONFLICT DO NOTHING RETURNING 1
), hit AS (
    INSERT INTO partner_rate_windows (credential_id, window_start, shard, hits)
    SELECT (SELECT id FROM cred), date_trunc('minute', now()), pg_backend_pid(), 1 FROM seen
    ON CONFLICT (credential_id, window_start, shard) DO UPDATE SET hits = partner_rate_windows.hits + 1
    RETURNING hits
), adm AS (
    SELECT (SELECT hits FROM hit) + (SELECT coalesce(sum(hits), 0) FROM partner_rate_windows
                                     WHERE credential_id = (SELECT id FROM cred)
                                       AND window_start = date_trunc('minute', now()) AND shard <> pg_backend_pid()) AS hits
), claim AS (
    SELECT pg_try_advisory_xact_lock(:tag::bigint) AS locked,
           EXISTS (SELECT FROM idempotency_keys WHERE scope = 'partner:' || (SELECT id FROM cred)::text
                   AND key = 'i-' || :tag::text) AS stored
    FROM adm WHERE adm.hits <= 1000000
)
SELECT (SELECT id FROM cred) AS credential_id, (SELECT partner_id FROM cred) AS platform_id, claim.locked, r.*
FROM (SELECT) one LEFT JOIN claim ON true LEFT JOIN (
    SELECT r.id AS recipient_id, r.applicant_id, r.account_id, r.status, r.funded_at, r.first_purchase_deadline,
           (SELECT count(*) FROM training_purchases t
            WHERE t.participant_id = r.applicant_id AND t.status IN ('otp_sent', 'confirmed', 'redeemed')) AS under_way,
           (SELECT credits_posted - debits_posted - debits_pending FROM ledger_accounts
            WHERE ledger = 1 AND kind = 'training_wallet' AND owner_type = 'participant'
              AND owner_id = r.applicant_id::text) AS available,
           (SELECT full_name FROM registration_applicants WHERE account_id = r.account_id) AS full_name
    FROM selection_recipients r
    WHERE r.card_number_index = (SELECT card_number_index FROM bench_raw_cards WHERE n = :pick_card::int)
      AND (SELECT locked AND NOT stored FROM claim)
) r ON true
\gset
INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body, created_at, expires_at)
VALUES ('partner:' || :credential_id::text, 'i-' || :tag::text, sha256(int8send(:tag::bigint)), 'POST',
        '/partner/v1/cards/inquiry', 200, convert_to(repeat('i', 169), 'UTF8'), now(), now() + interval '1 day');
COMMIT;

-- ---- 2. POST /partner/v1/purchases -------------------------------------------------------------------------------

\set sig random(1, 4611686018427387903)
BEGIN;
WITH cred AS (
    SELECT c.id, c.partner_id, c.revoked_at, p.status,
           (SELECT count(*) FROM auth_partner_keys k WHERE k.credential_id = c.id) AS keys
    FROM auth_partner_credentials c JOIN auth_partners p ON p.id = c.partner_id
    WHERE c.id = :credential_id::uuid
), seen AS (
    INSERT INTO partner_seen_signatures (credential_id, signature, expires_at)
    SELECT id, sha256(int8send(:sig::bigint)), now() + interval '5 minutes' FROM cred
    ON CONFLICT DO NOTHING RETURNING 1
), hit AS (
    INSERT INTO partner_rate_windows (credential_id, window_start, shard, hits)
    SELECT (SELECT id FROM cred), date_trunc('minute', now()), pg_backend_pid(), 1 FROM seen
    ON CONFLICT (credential_id, window_start, shard) DO UPDATE SET hits = partner_rate_windows.hits + 1
    RETURNING hits
), adm AS (
    SELECT (SELECT hits FROM hit) + (SELECT coalesce(sum(hits), 0) FROM partner_rate_windows
                                     WHERE credential_id = :credential_id::uuid
                                       AND window_start = date_trunc('minute', now()) AND shard <> pg_backend_pid()) AS hits
), claim AS (
    SELECT pg_try_advisory_xact_lock(:tag::bigint + 1) AS locked,
           EXISTS (SELECT FROM idempotency_keys WHERE scope = 'partner:' || :credential_id::text
                   AND key = 'p-' || :tag::text) AS stored
    FROM adm WHERE adm.hits <= 1000000
)
SELECT claim.locked, r.*
FROM (SELECT) one LEFT JOIN claim ON true LEFT JOIN (
    SELECT r.id AS recipient_id, r.applicant_id, r.account_id, c.id AS course_id, c.institution_id, l.price,
           (SELECT count(*) FROM training_purchases t
            WHERE t.participant_id = r.applicant_id AND t.status IN ('otp_sent', 'confirmed', 'redeemed')) AS under_way,
           EXISTS (SELECT FROM training_purchases t
                   WHERE t.platform_id = :platform_id::uuid AND t.platform_account_index = sha256(r.account_id::text::bytea)
                     AND t.recipient_id <> r.id AND t.status IN ('confirmed', 'redeemed', 'completed')) AS bound_elsewhere,
           (SELECT id FROM ledger_accounts WHERE ledger = 1 AND kind = 'training_wallet' AND owner_type = 'participant'
              AND owner_id = r.applicant_id::text) AS wallet_id,
           (SELECT id FROM ledger_accounts WHERE ledger = 1 AND kind = 'institution_payable' AND owner_type = 'institution'
              AND owner_id = c.institution_id::text) AS payable_id,
           (SELECT phone FROM registration_applicants WHERE account_id = r.account_id AND phone_verified_at IS NOT NULL) IS NOT NULL AS phone,
           (SELECT email FROM auth_accounts WHERE id = r.account_id) IS NOT NULL AS email
    FROM selection_recipients r,
         catalog_courses c JOIN catalog_listings l ON l.course_id = c.id AND l.platform_id = :platform_id::uuid
    WHERE r.card_number_index = (SELECT card_number_index FROM bench_raw_cards WHERE n = :pick_card::int)
      AND c.id = (SELECT course_id FROM bench_raw_courses WHERE n = :pick_course::int)
      AND (SELECT locked AND NOT stored FROM claim)
) r ON true
\gset
WITH ids AS MATERIALIZED (SELECT uuidv7() AS purchase_id, uuidv7() AS transfer_id, uuidv7() AS message_id, now() AS at),
accounts AS MATERIALIZED (
    SELECT id, head_hash FROM ledger_accounts WHERE id IN (:wallet_id::uuid, :payable_id::uuid) ORDER BY id FOR UPDATE
), chained AS MATERIALIZED (
    SELECT d.head_hash AS debit_prev, c.head_hash AS credit_prev,
           sha256(d.head_hash || c.head_hash || convert_to(concat_ws('|', ids.transfer_id::text, '1', 'purchase',
               'pending', :wallet_id::text, :payable_id::text, :price::text, '',
               ((extract(epoch FROM ids.at + interval '1 year') * 1000000)::bigint)::text, 'purchase',
               ids.purchase_id::text, ((extract(epoch FROM ids.at) * 1000000)::bigint)::text), 'UTF8')) AS hash
    FROM ids, accounts d, accounts c WHERE d.id = :wallet_id::uuid AND c.id = :payable_id::uuid
), balances AS (
    UPDATE ledger_accounts la
    SET debits_pending = la.debits_pending + CASE WHEN la.id = :wallet_id::uuid THEN :price::bigint ELSE 0 END,
        credits_pending = la.credits_pending + CASE WHEN la.id = :payable_id::uuid THEN :price::bigint ELSE 0 END,
        head_hash = chained.hash
    FROM chained WHERE la.id IN (:wallet_id::uuid, :payable_id::uuid)
), transfer AS (
    INSERT INTO ledger_transfers (id, ledger, code, mode, debit_account_id, credit_account_id, amount, pending_id,
        timeout_at, ref_type, ref_id, created_at, debit_prev_hash, credit_prev_hash, hash)
    SELECT ids.transfer_id, 1, 'purchase', 'pending', :wallet_id::uuid, :payable_id::uuid, :price::bigint, NULL,
           ids.at + interval '1 year', 'purchase', ids.purchase_id::text, ids.at, chained.debit_prev,
           chained.credit_prev, chained.hash
    FROM ids, chained
), purchase AS (
    INSERT INTO training_purchases (id, created_at, recipient_id, participant_id, account_id, course_id,
        institution_id, platform_id, platform_order_id, platform_account_index, amount, refunded_amount, status,
        otp_hash, otp_expires_at, otp_attempts, pending_transfer_id, cancel_reason)
    SELECT ids.purchase_id, ids.at, :recipient_id::uuid, :applicant_id::uuid, :account_id::uuid, :course_id::uuid,
           :institution_id::uuid, :platform_id::uuid, 'order-' || :tag::text, sha256(:account_id::text::bytea),
           :price::bigint, 0, 'otp_sent', sha256(int8send(:tag::bigint)), ids.at + interval '5 minutes', 0,
           ids.transfer_id, ''
    FROM ids
), entries AS (
    INSERT INTO audit_entries (occurred_at, actor_id, actor_role, action, object_type, object_id, reason, data,
        request_id, body_digest)
    SELECT ids.at, :credential_id::uuid, 'partner' || ':' || 'platform', e.action, e.object_type, e.object_id, '', e.data,
           to_hex(:tag::bigint), sha256(convert_to(e.data::text, 'UTF8'))
    FROM ids, LATERAL (VALUES
        (1, 'ledger.purchase_authorised', 'ledger_transfer', ids.transfer_id::text,
         jsonb_build_object('amount', :price::bigint, 'code', 'purchase', 'purchase', ids.purchase_id)),
        (2, 'training.purchase_started', 'purchase', ids.purchase_id::text,
         jsonb_build_object('course_id', :course_id::uuid, 'amount', :price::bigint, 'platform_order_id',
                            'order-' || :tag::text))
    ) AS e(n, action, object_type, object_id, data)
    ORDER BY e.n
), message AS (
    INSERT INTO notifications_messages (id, created_at, channel, account_id, recipient, subject, body, status, attempts)
    SELECT ids.message_id, ids.at, 'sms', :account_id::uuid, convert_to(repeat('r', 46), 'UTF8'),
           'Kartu Prakerja: OTP', convert_to(repeat('b', 194), 'UTF8'), 'queued', 0
    FROM ids
), job AS (
    INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
    SELECT 'default', 'notifications.deliver', 0, NULL, NULL, jsonb_build_object('message_id', ids.message_id), NULL
    FROM ids
), answer AS (
    INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body, created_at,
        expires_at)
    VALUES ('partner:' || :credential_id::text, 'p-' || :tag::text, sha256(int8send(:tag::bigint + 1)), 'POST',
            '/partner/v1/purchases', 201, convert_to(repeat('p', 137), 'UTF8'), now(), now() + interval '1 day')
)
SELECT ids.purchase_id, (SELECT hash FROM chained) IS NOT NULL AS posted FROM ids
\gset
COMMIT;

-- ---- 3. POST /partner/v1/purchases/{id}/confirm ------------------------------------------------------------------

\set sig random(1, 4611686018427387903)
BEGIN;
WITH cred AS (
    SELECT c.id, c.partner_id, c.revoked_at, p.status,
           (SELECT count(*) FROM auth_partner_keys k WHERE k.credential_id = c.id) AS keys
    FROM auth_partner_credentials c JOIN auth_partners p ON p.id = c.partner_id
    WHERE c.id = :credential_id::uuid
), seen AS (
    INSERT INTO partner_seen_signatures (credential_id, signature, expires_at)
    SELECT id, sha256(int8send(:sig::bigint)), now() + interval '5 minutes' FROM cred
    ON CONFLICT DO NOTHING RETURNING 1
), hit AS (
    INSERT INTO partner_rate_windows (credential_id, window_start, shard, hits)
    SELECT (SELECT id FROM cred), date_trunc('minute', now()), pg_backend_pid(), 1 FROM seen
    ON CONFLICT (credential_id, window_start, shard) DO UPDATE SET hits = partner_rate_windows.hits + 1
    RETURNING hits
), adm AS (
    SELECT (SELECT hits FROM hit) + (SELECT coalesce(sum(hits), 0) FROM partner_rate_windows
                                     WHERE credential_id = :credential_id::uuid
                                       AND window_start = date_trunc('minute', now()) AND shard <> pg_backend_pid()) AS hits
), claim AS (
    SELECT pg_try_advisory_xact_lock(:tag::bigint + 2) AS locked,
           EXISTS (SELECT FROM idempotency_keys WHERE scope = 'partner:' || :credential_id::text
                   AND key = 'c-' || :tag::text) AS stored
    FROM adm WHERE adm.hits <= 1000000
)
SELECT claim.locked, r.*
FROM (SELECT) one LEFT JOIN claim ON true LEFT JOIN (
    SELECT p.status, p.otp_hash, p.otp_expires_at,
           s.session_ids, s.session_types, s.session_starts,
           (SELECT count(e.id) FROM auth_partners o LEFT JOIN partner_webhook_endpoints e ON e.partner_id = o.id AND e.status = 'active'
            WHERE o.id IN (p.platform_id, p.institution_id)) AS endpoints,
           (SELECT credits_posted - debits_posted - debits_pending FROM ledger_accounts
            WHERE ledger = 1 AND kind = 'training_wallet' AND owner_type = 'participant'
              AND owner_id = p.participant_id::text) AS available
    FROM training_purchases p
    CROSS JOIN LATERAL (
        SELECT array_agg(id ORDER BY position) AS session_ids, array_agg(training_type ORDER BY position) AS session_types,
               array_agg(starts_at ORDER BY position) AS session_starts
        FROM catalog_course_sessions WHERE course_id = p.course_id
    ) s
    WHERE p.id = :purchase_id::uuid AND (SELECT locked AND NOT stored FROM claim) FOR UPDATE OF p
) r ON true
\gset
WITH ids AS MATERIALIZED (SELECT now() AS at, upper(substr(md5(random()::text), 1, 12)) AS voucher),
drawn AS MATERIALIZED (
    SELECT s.session_id, s.training_type, s.starts_at, s.n, upper(substr(md5(random()::text), 1, 10)) AS code
    FROM unnest(:session_ids::uuid[], :session_types::text[], :session_starts::timestamptz[])
         WITH ORDINALITY AS s(session_id, training_type, starts_at, n)
), taken AS (
    SELECT code FROM training_redeem_codes WHERE code = ANY (ARRAY(SELECT code FROM drawn))
    UNION ALL SELECT voucher_code FROM training_purchases WHERE voucher_code = (SELECT voucher FROM ids)
), confirmed AS (
    UPDATE training_purchases SET status = 'confirmed', confirmed_at = (SELECT at FROM ids),
                                  voucher_code = (SELECT voucher FROM ids)
    WHERE id = :purchase_id::uuid AND status = 'otp_sent' AND NOT EXISTS (SELECT FROM taken)
    RETURNING id
), codes AS (
    INSERT INTO training_redeem_codes (id, created_at, purchase_id, session_id, institution_id, training_type, code,
        state, valid_from, valid_until)
    SELECT uuidv7(), ids.at, confirmed.id, s.session_id, :institution_id::uuid, s.training_type, s.code, 'valid',
           s.starts_at - interval '1 hour', s.starts_at + interval '1 hour'
    FROM confirmed, ids, drawn s ORDER BY s.n
), webhook_events AS (
    INSERT INTO partner_webhook_events (id, created_at, partner_id, webhook_id, type, body)
    SELECT uuidv7(), ids.at, e.partner_id, 'purchase.confirmed:' || :purchase_id::text, 'purchase_confirmed',
           '{"type":"purchase.confirmed","timestamp":"' || (to_json(ids.at) #>> '{}')
           || '","data":{"purchase_id":"' || :purchase_id::text || '"}}'
    FROM ids, (VALUES (1, :platform_id::uuid), (2, :institution_id::uuid)) AS e(n, partner_id)
    WHERE EXISTS (SELECT FROM confirmed)
    ON CONFLICT (partner_id, webhook_id) DO NOTHING
), entry AS (
    INSERT INTO audit_entries (occurred_at, actor_id, actor_role, action, object_type, object_id, reason, data,
        request_id, body_digest)
    SELECT ids.at, :credential_id::uuid, 'partner' || ':' || 'platform', 'training.purchase_confirmed', 'purchase',
           :purchase_id::text, '', '{}'::jsonb, to_hex(:tag::bigint), sha256(convert_to(:purchase_id::text, 'UTF8'))
    FROM ids WHERE EXISTS (SELECT FROM confirmed)
), answer AS (
    INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body, created_at,
        expires_at)
    SELECT 'partner:' || :credential_id::text, 'c-' || :tag::text, sha256(int8send(:tag::bigint + 2)), 'POST',
           '/partner/v1/purchases/' || :purchase_id::text || '/confirm', 200, convert_to(repeat('c', 145), 'UTF8'),
           now(), now() + interval '1 day'
    WHERE EXISTS (SELECT FROM confirmed)
)
SELECT ARRAY(SELECT code FROM taken)::text[] AS taken;
COMMIT;
