SELECT
  CAST(DATE_TRUNC('DAY', "events"."event_ts") AS DATE) AS "event_ts__day",
  CAST(COUNT(*) AS DOUBLE) / NULLIF(COUNT(DISTINCT "events"."user_id"), 0) AS "events_per_user"
FROM "events" AS "events"
LEFT JOIN "users" AS "users"
  ON "events"."user_id" = "users"."user_id"
WHERE
  STRPOS(LOWER("events"."event_type"), LOWER('EXP')) > 0
  AND "users"."churn_date" IS NULL
GROUP BY
  CAST(DATE_TRUNC('DAY', "events"."event_ts") AS DATE)
ORDER BY
  "event_ts__day" ASC
LIMIT 10001
