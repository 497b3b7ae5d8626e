SELECT
  CAST(DATE_TRUNC('QUARTER', "revenue"."month") AS DATE) AS "month__quarter",
  SUM("revenue"."mrr") AS "revenue"
FROM "revenue" AS "revenue"
GROUP BY
  CAST(DATE_TRUNC('QUARTER', "revenue"."month") AS DATE)
ORDER BY
  "month__quarter" ASC
LIMIT 10001
