SELECT
  `users`.`acquisition_channel` AS `acquisition_channel`,
  CAST(COUNTIF(`users`.`converted` = TRUE) AS FLOAT64) / NULLIF(COUNT(*), 0) AS `conversion_rate`
FROM `users` AS `users`
WHERE
  `users`.`industry` = 'fintech'
GROUP BY
  `acquisition_channel`
ORDER BY
  `conversion_rate` DESC,
  `acquisition_channel` ASC NULLS LAST
