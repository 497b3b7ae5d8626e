SELECT
  "events"."event_type" AS "event_type",
  COUNT(*) AS "users",
  CAST(COUNT(*) FILTER(WHERE
    "users"."converted" = TRUE) AS DOUBLE) / NULLIF(COUNT(*), 0) AS "conversion_rate"
FROM "users" AS "users"
LEFT JOIN (
  SELECT DISTINCT
    "event_type",
    "user_id"
  FROM "events"
) AS "events"
  ON "users"."user_id" = "events"."user_id"
GROUP BY
  "events"."event_type"
ORDER BY
  "event_type" ASC
LIMIT 10001
