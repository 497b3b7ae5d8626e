SELECT
  COUNT(*) AS "users"
FROM (
  SELECT DISTINCT
    "users"."user_id" AS "users__user_id"
  FROM "users" AS "users"
  LEFT JOIN (
    SELECT DISTINCT
      "event_type",
      "user_id"
    FROM "events"
  ) AS "events"
    ON "users"."user_id" = "events"."user_id"
  WHERE
    "events"."event_type" = 'search'
) AS "fanout_safe"
LIMIT 10001
