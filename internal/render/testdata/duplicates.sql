-- Repeated column names: JSON keys get suffixes that avoid taken names;
-- csv and table keep the names as the query wrote them.
-- query
SELECT 1 AS a, 2 AS a, 3 AS a_2, 4 AS " ", 5 AS A, 'x' AS "multi
line"
