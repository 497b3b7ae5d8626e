WITH "agg_revenue" AS (
  SELECT
    "users"."industry" AS "industry",
    SUM("revenue"."mrr") AS "revenue"
  FROM "revenue" AS "revenue"
  LEFT JOIN "users" AS "users"
    ON "revenue"."user_id" = "users"."user_id"
  GROUP BY
    "users"."industry"
), "agg_users" AS (
  SELECT
    "users"."industry" AS "industry",
    COUNT(*) AS "users"
  FROM "users" AS "users"
  GROUP BY
    "users"."industry"
), "dimension_keys" AS (
  SELECT
    "industry"
  FROM "agg_revenue"
  UNION
  SELECT
    "industry"
  FROM "agg_users"
)
SELECT
  "dimension_keys"."industry" AS "industry",
  "agg_revenue"."revenue" AS "revenue",
  COALESCE("agg_users"."users", 0) AS "users"
FROM "dimension_keys"
LEFT JOIN "agg_revenue"
  ON "dimension_keys"."industry" IS NOT DISTINCT FROM "agg_revenue"."industry"
LEFT JOIN "agg_users"
  ON "dimension_keys"."industry" IS NOT DISTINCT FROM "agg_users"."industry"
ORDER BY
  "industry" ASC
LIMIT 10001
