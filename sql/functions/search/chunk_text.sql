-- crm_private.chunk_text(p_text, p_size, p_overlap) — cut a text into overlapping chunks for
-- search (docs/search.md "Chunking").
-- Guarantees: a text of at most p_size characters (after trimming) is one chunk; a longer one
-- is cut into chunks of at most p_size characters, each ending at the last sentence end
-- (. ! ? or a line break, followed by white space) in its second half, else at the last white
-- space in its second half, else hard at p_size; the next chunk starts about p_overlap
-- characters before that end, moved forward to the next word start, and always after the
-- previous start (so the loop ends). chunk_no counts from 1; chunks are trimmed and never
-- blank. Blank or NULL text → no rows. Defaults: 800 characters, 100 overlap.
CREATE OR REPLACE FUNCTION crm_private.chunk_text(p_text text, p_size int DEFAULT 800, p_overlap int DEFAULT 100)
RETURNS TABLE (chunk_no integer, body text)
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
-- most texts are one or two chunks: the default estimate (1000 rows a call) made the planner
-- expect millions of chunks per reconciled batch and pick whole-table plans
ROWS 2
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text text := btrim(p_text, E' \t\r\n');
    v_len  integer;
    v_pos  integer := 1;
    v_win  text;
    v_half text;
    v_cut  integer;
    v_p    integer;
    v_next integer;
    v_no   integer := 0;
BEGIN
    IF p_size IS NULL OR p_size < 50 OR p_overlap IS NULL OR p_overlap < 0 OR p_overlap >= p_size / 2 THEN
        RAISE EXCEPTION 'chunk size must be >= 50 and overlap in 0..size/2, got % and %', p_size, p_overlap
            USING ERRCODE = 'CR044', HINT = 'the defaults are 800 and 100';
    END IF;
    IF v_text IS NULL OR v_text = '' THEN
        RETURN;
    END IF;
    v_len := length(v_text);
    LOOP
        IF v_len - v_pos + 1 <= p_size THEN
            chunk_no := v_no + 1;
            body := btrim(substr(v_text, v_pos), E' \t\r\n');
            IF body <> '' THEN
                RETURN NEXT;
            END IF;
            RETURN;
        END IF;
        v_win := substr(v_text, v_pos, p_size);
        -- search the second half of the window, backwards (reversed text, reversed pattern)
        v_half := reverse(substr(v_win, p_size / 2 + 1));
        v_p := regexp_instr(v_half, '\s[.!?]|\n');
        IF v_p = 0 THEN
            v_p := regexp_instr(v_half, '\s');
        END IF;
        IF v_p = 0 THEN
            v_cut := p_size;                            -- no boundary: hard cut
        ELSE
            v_cut := p_size - v_p;                      -- up to the boundary character (exclusive)
        END IF;
        body := btrim(substr(v_text, v_pos, v_cut), E' \t\r\n');
        IF body <> '' THEN
            v_no := v_no + 1;
            chunk_no := v_no;
            RETURN NEXT;
        END IF;
        -- next start: p_overlap before the cut, then forward to the next word start
        v_next := v_pos + v_cut - p_overlap;
        v_p := regexp_instr(substr(v_text, v_next, p_overlap), '\s\S');
        IF v_p > 0 THEN
            v_next := v_next + v_p;
        END IF;
        v_pos := greatest(v_next, v_pos + 1);
    END LOOP;
END;
$$;

COMMENT ON FUNCTION crm_private.chunk_text(text, integer, integer) IS
    'Cuts a text into chunks of at most p_size characters (default 800) overlapping by about p_overlap (default 100), ending on sentence or word boundaries. Example: SELECT * FROM crm_private.chunk_text(repeat(''Renewal is due. '', 200));';
