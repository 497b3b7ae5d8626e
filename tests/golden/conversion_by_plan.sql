SELECT
  "users"."plan_type" AS "plan_type",
  CAST(COUNT(*) FILTER(WHERE
    "users"."converted" = TRUE) AS DOUBLE) / NULLIF(COUNT(*), 0) AS "conversion_rate"
FROM "users" AS "users"
GROUP BY
  "users"."plan_type"
ORDER BY
  "plan_type" ASC
LIMIT 10001
