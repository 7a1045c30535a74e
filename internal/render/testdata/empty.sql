-- No rows: json is still a valid array.
-- query
SELECT 1 AS n, 'x' AS s WHERE false
