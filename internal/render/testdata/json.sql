-- JSON values: duckdb-go decodes them (encoding/json into any), so object
-- keys come out sorted, numbers as float64, and a JSON null is SQL NULL.
-- A nested JSON value is named VARCHAR in the column type but still
-- arrives decoded. CAST to VARCHAR keeps the stored text.
CREATE TABLE j (id INTEGER, doc JSON, nested STRUCT(doc JSON), docs JSON[], by_key MAP(VARCHAR, JSON));
INSERT INTO j VALUES
	(1, '{"z": 1, "a": {"y": [1, 2.50, 1e300]}, "s": "line\nbreak"}', {'doc': '{"z": 1, "a": 2}'}, ['"x"', '3', 'null'], MAP {'k': '{"b": true, "a": false}'}),
	(2, '"plain string"', {'doc': '"s"'}, [], MAP {}),
	(3, 'null', {'doc': 'null'}, NULL, NULL),
	(4, '9007199254740993', NULL, ['[]', '{}'], MAP {'n': '12345678901234567890'}),
	(5, NULL, NULL, NULL, NULL);
-- query
SELECT id, doc, doc::VARCHAR AS doc_text, nested, docs, by_key FROM j ORDER BY id
