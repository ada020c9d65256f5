-- Scale data for measuring the customer intelligence queries (docs/intelligence.md).
-- Fills ONE new tenant in a development database, fast, with generate_series:
--
--   psql "$DATABASE_URL" -v slug=scale20k -v customers=20000 -v leads=300000 \
--        -v calls=600000 -v big_calls=200000 -v messages=300000 \
--        -f docs/intelligence-scale.sql
--
-- Leads, calls and messages are spread over the customers with a heavy skew (a few
-- customers have most rows, many have none); one customer gets :big_calls calls on
-- top. Never run it against production: it creates a business with made-up data.
\set ON_ERROR_STOP on

BEGIN;
INSERT INTO business (name, slug, is_active, created_at, updated_at)
VALUES (:'slug', :'slug', true, now(), now())
RETURNING id AS business_id \gset
INSERT INTO business_settings (tenant_id, time_zone, default_country, language,
                               ai_assistant_enabled, whatsapp_greeting, updated_at)
VALUES (:business_id, 'Asia/Jerusalem', 'IL', 'en', true, '', now());

INSERT INTO customer (business_id, name, phone_e164, email, source, notes,
                      created_at, updated_at, sort_leads_count)
SELECT :business_id,
       (ARRAY['Noa','Maya','Amir','Tamar','Daniel','Emma','Oliver','Ava'])[1 + g % 8]
           || ' ' || (ARRAY['Cohen','Levi','Smith','Jones','Garcia','Katz'])[1 + g % 6],
       '+1555' || lpad(g::text, 7, '0'),
       CASE WHEN g % 3 = 0 THEN '' ELSE 'customer' || g || '@example.com' END,
       (ARRAY['call','whatsapp','web','referral','manual','import'])[1 + g % 6],
       '',
       now() - random() * interval '730 days',
       now(),
       0
FROM generate_series(1, :customers) AS g;

SELECT min(id) AS first_customer, count(*) AS customer_count
FROM customer WHERE business_id = :business_id \gset

-- random()^3 skews towards the first customers: a long tail has few rows or none.
INSERT INTO leads (tenant_id, customer_id, name, phone_e164, email, source, status,
                   notes, created_at, updated_at)
SELECT :business_id,
       :first_customer + floor(:customer_count * random() ^ 3)::bigint,
       '', '', '',
       (ARRAY['call','whatsapp','web','referral','manual','import'])[1 + g % 6],
       (ARRAY['new','attempting','contacted','qualified','won','lost','unqualified'])[1 + g % 7],
       '', ts, ts
FROM (SELECT g, now() - random() * interval '730 days' AS ts
      FROM generate_series(1, :leads) AS g) AS rows;

INSERT INTO call_log (business_id, customer_id, call_sid, from_number, to_number,
                      direction, status, duration, summary, transcript, recording_url,
                      created_at, updated_at)
SELECT :business_id,
       CASE WHEN g <= :big_calls THEN :first_customer + 7
            ELSE :first_customer + floor(:customer_count * random() ^ 3)::bigint END,
       'CA' || :business_id || '-' || g, '+15550000000', '+15559999999',
       CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
       (ARRAY['completed','completed','completed','no_answer','busy'])[1 + g % 5],
       g % 600,
       CASE WHEN g % 3 = 0 THEN 'Customer asked for a quote.' ELSE '' END,
       '', '', ts, ts
FROM (SELECT g, now() - random() * interval '730 days' AS ts
      FROM generate_series(1, :calls) AS g) AS rows;

INSERT INTO whatsapp_message (business_id, customer_id, provider_message_id, to_number,
                              direction, status, body, ai_generated, created_at)
SELECT :business_id,
       :first_customer + floor(:customer_count * random() ^ 3)::bigint,
       'wamid.' || g, '+15550000000',
       CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN g % 2 = 0 THEN 'received' ELSE 'delivered' END,
       'Hello', g % 4 = 1, now() - random() * interval '730 days'
FROM generate_series(1, :messages) AS g;

-- bulk inserts bypass crm.activity; recompute the sort keys as
-- `manage.py customer_sort_keys --fix` would.
UPDATE customer AS c
SET sort_leads_count = (SELECT count(*) FROM leads AS l WHERE l.customer_id = c.id),
    sort_last_interaction_at = GREATEST(
        (SELECT max(l.created_at) FROM leads AS l WHERE l.customer_id = c.id),
        (SELECT max(k.created_at) FROM call_log AS k WHERE k.customer_id = c.id),
        (SELECT max(w.created_at) FROM whatsapp_message AS w WHERE w.customer_id = c.id))
WHERE c.business_id = :business_id;
COMMIT;

VACUUM (ANALYZE) customer, leads, call_log, whatsapp_message;
SELECT :business_id AS business_id, :customer_count AS customers;
