SELECT
  "users"."industry" AS "industry",
  CAST(COUNT(*) FILTER(WHERE
    "users"."converted" = TRUE) AS DOUBLE) / NULLIF(COUNT(*), 0) AS "conversion_rate",
  COUNT(*) AS "users"
FROM "users" AS "users"
WHERE
  "users"."signup_date" >= CAST('2024-01-01' AS DATE)
  AND (
    NOT "users"."acquisition_channel" IN ('social')
    OR "users"."acquisition_channel" IS NULL
  )
GROUP BY
  "users"."industry"
ORDER BY
  "conversion_rate" DESC,
  "industry" ASC
LIMIT 5
