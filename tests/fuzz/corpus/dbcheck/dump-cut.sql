--
-- PostgreSQL database dump
--
COPY public.users (id) FROM stdin;
1
