SELECT
  CAST(DATE_TRUNC('WEEK', "users"."signup_date") AS DATE) AS "signup_date__week",
  CAST(COUNT(*) FILTER(WHERE
    "users"."converted" = TRUE AND "users"."churned" = TRUE) AS DOUBLE) / NULLIF(COUNT(*) FILTER(WHERE
    "users"."converted" = TRUE), 0) AS "churn_rate"
FROM "users" AS "users"
WHERE
  "users"."signup_date" BETWEEN CAST('2024-01-01' AS DATE) AND CAST('2024-03-31' AS DATE)
GROUP BY
  CAST(DATE_TRUNC('WEEK', "users"."signup_date") AS DATE)
ORDER BY
  "signup_date__week" ASC
LIMIT 10001
