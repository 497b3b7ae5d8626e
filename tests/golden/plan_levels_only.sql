SELECT
  "users"."plan_type" AS "plan_type"
FROM "users" AS "users"
GROUP BY
  "users"."plan_type"
ORDER BY
  "plan_type" ASC
LIMIT 10001
