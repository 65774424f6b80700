-- The read models get an owner of their own, so that the server's role owns nothing.
--
-- Until now the server's role (hamkari_app) owned schema `readmodel` and its tables, so
-- that a rebuild could create fresh tables and swap them in. A role that owns a table
-- can put a trigger on it, and that trigger runs as whoever later writes the table: a
-- migration run by the owner, for one. Now `hamkari_readmodel` (NOLOGIN; nobody logs
-- in as it and the server's role is not a member of it) owns them; the server's role
-- may read and write their rows, and does the few things that need ownership (a
-- rebuild's fresh tables, their indexes, the swap) through the SECURITY DEFINER
-- functions below, which touch nothing outside `readmodel` (docs/projections.md).
--
-- A later migration that changes a read model's shape does it under
-- `SET LOCAL ROLE hamkari_readmodel`, never as hamkari_app.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hamkari_readmodel') THEN
        CREATE ROLE hamkari_readmodel NOLOGIN NOINHERIT;
    END IF;
    -- the migrating role acts as it to create and alter read-model tables
    IF NOT pg_has_role(current_user, 'hamkari_readmodel', 'MEMBER') THEN
        EXECUTE format('GRANT hamkari_readmodel TO %I', current_user);
    END IF;
END
$$;

ALTER SCHEMA readmodel OWNER TO hamkari_readmodel;
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'readmodel' LOOP
        EXECUTE format('ALTER TABLE readmodel.%I OWNER TO hamkari_readmodel', t.tablename);
    END LOOP;
END
$$;

REVOKE ALL ON SCHEMA readmodel FROM hamkari_app;
GRANT USAGE ON SCHEMA readmodel TO hamkari_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA readmodel TO hamkari_app;
ALTER DEFAULT PRIVILEGES FOR ROLE hamkari_readmodel IN SCHEMA readmodel
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO hamkari_app;
-- VACUUM and ANALYZE of the rebuilt tables: the MAINTAIN privilege is PostgreSQL 17's;
-- on an older server they are skipped with a warning (autovacuum still gets there)
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 170000 THEN
        GRANT MAINTAIN ON ALL TABLES IN SCHEMA readmodel TO hamkari_app;
        ALTER DEFAULT PRIVILEGES FOR ROLE hamkari_readmodel IN SCHEMA readmodel
            GRANT MAINTAIN ON TABLES TO hamkari_app;
    END IF;
END
$$;

-- Nobody but the owner creates objects in `public` (the default since PostgreSQL 15;
-- older clusters let every role, and a function there could shadow a built-in one
-- that a migration calls).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- A rebuild's tables are `<base>__next` beside each live `<base>`. Each function takes
-- the live tables' names, accepts only existing tables of `readmodel` that are not
-- themselves a `__next`, and runs with a fixed search_path.
CREATE FUNCTION readmodel.hamkari_rebuild_tables(bases text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    base text;
BEGIN
    FOREACH base IN ARRAY bases LOOP
        IF base LIKE '%\_\_next' OR NOT EXISTS (
            SELECT FROM pg_tables WHERE schemaname = 'readmodel' AND tablename = base
        ) THEN
            RAISE EXCEPTION 'not a read-model table: %', base
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN NEXT base;
    END LOOP;
END
$$;

-- empty tables shaped like the live ones, without indexes (built after the COPY)
CREATE FUNCTION readmodel.hamkari_rebuild_create(bases text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    base text;
BEGIN
    FOR base IN SELECT readmodel.hamkari_rebuild_tables(bases) LOOP
        EXECUTE format('DROP TABLE IF EXISTS readmodel.%I', base || '__next');
        EXECUTE format(
            'CREATE TABLE readmodel.%I (LIKE readmodel.%I INCLUDING ALL EXCLUDING INDEXES)',
            base || '__next', base);
    END LOOP;
END
$$;

-- the live tables' indexes and primary keys on the fresh ones, the table's name in
-- each index's name swapped for the fresh table's
CREATE FUNCTION readmodel.hamkari_rebuild_index(bases text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    base text;
    fresh text;
    idx record;
    parts text[];
    name text;
BEGIN
    FOR base IN SELECT readmodel.hamkari_rebuild_tables(bases) LOOP
        fresh := base || '__next';
        FOR idx IN
            SELECT c.relname, pg_get_indexdef(i.indexrelid) AS definition, k.contype
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
            WHERE i.indrelid = format('readmodel.%I', base)::regclass
        LOOP
            parts := regexp_match(idx.definition, '^CREATE (UNIQUE )?INDEX \S+ ON \S+ (USING .+)$');
            IF parts IS NULL THEN
                RAISE EXCEPTION 'cannot read index definition %', idx.definition;
            END IF;
            name := fresh || CASE WHEN starts_with(idx.relname, base)
                                  THEN substr(idx.relname, length(base) + 1)
                                  ELSE idx.relname END;
            EXECUTE format('CREATE %sINDEX %I ON readmodel.%I %s',
                           coalesce(parts[1], ''), name, fresh, parts[2]);
            IF idx.contype = 'p' THEN
                EXECUTE format('ALTER TABLE readmodel.%I ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I',
                               fresh, name, name);
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- the fresh tables take the live ones' place, and their indexes the live ones' names;
-- the caller holds the locks (server/projections/rebuild.py)
CREATE FUNCTION readmodel.hamkari_rebuild_swap(bases text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    base text;
    fresh text;
    idx record;
BEGIN
    FOR base IN SELECT readmodel.hamkari_rebuild_tables(bases) LOOP
        fresh := base || '__next';
        EXECUTE format('DROP TABLE readmodel.%I', base);
        EXECUTE format('ALTER TABLE readmodel.%I RENAME TO %I', fresh, base);
        FOR idx IN
            SELECT indexname FROM pg_indexes
            WHERE schemaname = 'readmodel' AND tablename = base AND starts_with(indexname, fresh)
        LOOP
            EXECUTE format('ALTER INDEX readmodel.%I RENAME TO %I', idx.indexname,
                           base || substr(idx.indexname, length(fresh) + 1));
        END LOOP;
    END LOOP;
END
$$;

-- what a failed rebuild leaves behind
CREATE FUNCTION readmodel.hamkari_rebuild_discard(bases text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    base text;
BEGIN
    FOR base IN SELECT readmodel.hamkari_rebuild_tables(bases) LOOP
        EXECUTE format('DROP TABLE IF EXISTS readmodel.%I', base || '__next');
    END LOOP;
END
$$;

ALTER FUNCTION readmodel.hamkari_rebuild_tables(text[]) OWNER TO hamkari_readmodel;
ALTER FUNCTION readmodel.hamkari_rebuild_create(text[]) OWNER TO hamkari_readmodel;
ALTER FUNCTION readmodel.hamkari_rebuild_index(text[]) OWNER TO hamkari_readmodel;
ALTER FUNCTION readmodel.hamkari_rebuild_swap(text[]) OWNER TO hamkari_readmodel;
ALTER FUNCTION readmodel.hamkari_rebuild_discard(text[]) OWNER TO hamkari_readmodel;
REVOKE ALL ON FUNCTION readmodel.hamkari_rebuild_tables(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION readmodel.hamkari_rebuild_create(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION readmodel.hamkari_rebuild_index(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION readmodel.hamkari_rebuild_swap(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION readmodel.hamkari_rebuild_discard(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION readmodel.hamkari_rebuild_create(text[]) TO hamkari_app;
GRANT EXECUTE ON FUNCTION readmodel.hamkari_rebuild_index(text[]) TO hamkari_app;
GRANT EXECUTE ON FUNCTION readmodel.hamkari_rebuild_swap(text[]) TO hamkari_app;
GRANT EXECUTE ON FUNCTION readmodel.hamkari_rebuild_discard(text[]) TO hamkari_app;
