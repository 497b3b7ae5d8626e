SELECT
  "fanout_safe"."event_type" AS "event_type",
  COUNT(*) AS "users",
  CAST(COUNT(*) FILTER(WHERE
    "fanout_safe"."users__converted" = TRUE) AS DOUBLE) / NULLIF(COUNT(*), 0) AS "conversion_rate"
FROM (
  SELECT DISTINCT
    "users"."converted" AS "users__converted",
    "users"."user_id" AS "users__user_id",
    "events"."event_type" AS "event_type"
  FROM "users" AS "users"
  LEFT JOIN "events" AS "events"
    ON "users"."user_id" = "events"."user_id"
) AS "fanout_safe"
GROUP BY
  "fanout_safe"."event_type"
ORDER BY
  "event_type" ASC
LIMIT 10001
