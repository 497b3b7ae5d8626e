SELECT
  "users"."acquisition_channel" AS "acquisition_channel",
  CAST(COUNT_IF("users"."converted" = TRUE) AS DOUBLE) / NULLIF(COUNT(*), 0) AS "conversion_rate"
FROM "users" AS "users"
WHERE
  "users"."industry" = 'fintech'
GROUP BY
  "users"."acquisition_channel"
ORDER BY
  "conversion_rate" DESC NULLS LAST,
  "acquisition_channel" ASC
