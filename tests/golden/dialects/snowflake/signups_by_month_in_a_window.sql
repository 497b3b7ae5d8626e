SELECT
  CAST(DATE_TRUNC('MONTH', "users"."signup_date") AS DATE) AS "signup_date__month",
  COUNT(*) AS "users"
FROM "users" AS "users"
WHERE
  "users"."signup_date" BETWEEN CAST('2025-04-01' AS DATE) AND CAST('2025-06-30' AS DATE)
GROUP BY
  CAST(DATE_TRUNC('MONTH', "users"."signup_date") AS DATE)
ORDER BY
  "signup_date__month" ASC
