SELECT
  "users"."plan_type" AS "plan_type",
  COUNT(*) AS "events"
FROM "events" AS "events"
LEFT JOIN "users" AS "users"
  ON "events"."user_id" = "users"."user_id"
GROUP BY
  "users"."plan_type"
ORDER BY
  "plan_type" ASC
LIMIT 10001
