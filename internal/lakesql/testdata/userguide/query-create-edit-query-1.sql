-- source: doc_source/query-create-edit-query.md block 1
SELECT
        userIdentity.principalId, count(*)
   FROM
        5e2676f8-9fce-46ef-8142-3e36a94e6691
   WHERE
        userIdentity.principalId LIKE '%Alice%'
        AND eventName = 'ConsoleLogin'
   GROUP BY
        userIdentity.principalId;
