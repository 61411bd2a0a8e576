"""Adopting dockstage in an existing Django project: `dockstage init [PATH]`.

inspect.py reads the project (manage.py, settings, WSGI, requirements, Python, what prod needs,
the environment names the settings read); render.py turns what it found into [tool.dockstage],
.env.example and the thin noxfile.py / tasks.py; cli.py writes them (never over a file without
--force) and says what it found and what to check. `--eject` copies the suite's Dockerfile,
compose files and helpers into the project, which then uses its own copies.
"""
