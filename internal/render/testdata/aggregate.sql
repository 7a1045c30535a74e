-- The usual summary query: counts, sums, min/max times and a duration.
CREATE TABLE events AS
SELECT TIMESTAMP '2023-07-10 00:00:00' + to_seconds(i * 37) AS eventTime,
	['GetObject', 'PutObject', 'ListBuckets'][i % 3 + 1] AS eventName,
	i % 5 = 0 AS readOnly
FROM range(100) r(i);
-- query
SELECT eventName, count(*) AS n, sum(CASE WHEN readOnly THEN 1 ELSE 0 END) AS read_only,
	avg(epoch(eventTime)) AS mean_epoch, min(eventTime) AS first, max(eventTime) AS last,
	max(eventTime) - min(eventTime) AS span, count(DISTINCT eventTime) AS distinct_times
FROM events GROUP BY eventName ORDER BY n DESC, eventName
