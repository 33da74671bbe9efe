-- crm_private.search_fold(p_text) — the text crm.search compares: lower case, accents and
-- ligatures folded to ASCII letters (Müller → muller, Ærø → aero, straße → strasse).
-- Guarantees: IMMUTABLE and built only from immutable pg_catalog functions (translate,
-- replace, lower), so it may back an expression index; a SQL-standard body, so the planner
-- inlines it and the trigram index crm.nodes nodes_search_label_trgm (migration 0022, which
-- spells out the same expression) matches crm_private.search_fold(label). Not unaccent: that
-- would be a third extension every install (and every DBA without superuser) must create,
-- and its rules file can change under an index built with it. NULL → NULL.
CREATE OR REPLACE FUNCTION crm_private.search_fold(p_text text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN pg_catalog.lower(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.translate(p_text,
        'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽžðÐþÞ',
        'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzzddtt'),
        'ß', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'));

COMMENT ON FUNCTION crm_private.search_fold(text) IS
    'Lower case with accents folded (Müller → muller), immutable and inlinable: the text crm.search and its trigram indexes compare. Example: SELECT crm_private.search_fold(''Crème Brûlée'') → ''creme brulee''.';
