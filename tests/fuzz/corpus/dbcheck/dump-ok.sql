--
-- PostgreSQL database dump
--

\restrict abc

SET statement_timeout = 0;
CREATE TABLE public.users (id integer);
COPY public.users (id, name) FROM stdin;
1	adari
2	b\nc
\.

COPY public.spawners (id) FROM stdin;
1
\.
COPY public.api_tokens (id) FROM stdin;
\.
COPY public.alembic_version (version_num) FROM stdin;
4621fec11365
\.

--
-- PostgreSQL database dump complete
--

\unrestrict abc

