-- source: doc_source/query-create-edit-query.md block 0
SELECT *
FROM eds-ID
WHERE
     eventtime >='2022-01-05 13:51:00' and eventtime < ='2022-01-19 13:51:00';
