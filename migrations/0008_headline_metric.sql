-- The metric a task's verdict, acceptance and leaderboard rank are judged on (its headline), fixed at upload from
-- the task type the submitter declared: accuracy for the prize's `classification_acc`, the type's default metric
-- otherwise (src/analysis/metrics.ts, headlineMetricName). Other analysed metrics are secondary. NULL for numeric
-- tasks, which are not analysed.
ALTER TABLE submissions ADD COLUMN headline_metric TEXT;

-- Existing rows, by the same rule: the declared name is the metadata's taskType.
UPDATE submissions SET headline_metric = CASE
  WHEN task_type = 'classification' AND json_extract(metadata_json, '$.taskType') = 'classification_acc' THEN 'accuracy'
  WHEN task_type IN ('classification', 'sequence_prob') THEN 'loss'
  WHEN task_type = 'logodds' THEN 'logodds_difference'
  WHEN task_type = 'absolute_logodds' THEN 'absolute_logodds_difference'
END;
