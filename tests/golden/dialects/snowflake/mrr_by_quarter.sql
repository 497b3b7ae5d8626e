WITH "per_period" AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', "revenue"."month") AS DATE) AS "__period",
    SUM("revenue"."mrr") AS "mrr"
  FROM "revenue" AS "revenue"
  GROUP BY
    CAST(DATE_TRUNC('MONTH', "revenue"."month") AS DATE)
), "period_edges" AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', "__period") AS DATE) AS "bucket",
    MAX("__period") AS "last_period",
    MIN("__period") AS "first_period",
    COUNT(DISTINCT "__period") AS "periods"
  FROM "per_period"
  GROUP BY
    1
)
SELECT
  CAST(DATE_TRUNC('QUARTER', "per_period"."__period") AS DATE) AS "month__quarter",
  SUM(
    IFF("per_period"."__period" = "period_edges"."last_period", "per_period"."mrr", NULL)
  ) AS "mrr"
FROM "per_period"
LEFT JOIN "period_edges"
  ON "period_edges"."bucket" IS NOT DISTINCT FROM CAST(DATE_TRUNC('QUARTER', "per_period"."__period") AS DATE)
GROUP BY
  CAST(DATE_TRUNC('QUARTER', "per_period"."__period") AS DATE)
ORDER BY
  "month__quarter" ASC
