WITH "per_period" AS (
  SELECT
    "revenue"."plan_type" AS "plan_type",
    CAST(DATE_TRUNC('MONTH', "revenue"."month") AS DATE) AS "__period",
    SUM("revenue"."mrr") AS "mrr",
    COUNT(DISTINCT "revenue"."user_id") AS "subscribers"
  FROM "revenue" AS "revenue"
  GROUP BY
    "revenue"."plan_type",
    CAST(DATE_TRUNC('MONTH', "revenue"."month") AS DATE)
), "period_edges" AS (
  SELECT
    1 AS "bucket",
    MAX("__period") AS "last_period",
    MIN("__period") AS "first_period",
    COUNT(DISTINCT "__period") AS "periods"
  FROM "per_period"
  GROUP BY
    1
)
SELECT
  "per_period"."plan_type" AS "plan_type",
  SUM("per_period"."mrr") FILTER(WHERE
    "per_period"."__period" = "period_edges"."last_period") AS "mrr",
  SUM("per_period"."subscribers") FILTER(WHERE
    "per_period"."__period" = "period_edges"."last_period") AS "subscribers"
FROM "per_period"
LEFT JOIN "period_edges"
  ON "period_edges"."bucket" IS NOT DISTINCT FROM 1
GROUP BY
  "per_period"."plan_type"
ORDER BY
  "plan_type" ASC
LIMIT 10001
