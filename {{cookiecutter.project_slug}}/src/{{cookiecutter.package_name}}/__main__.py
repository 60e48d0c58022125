"""`python -m {{ cookiecutter.package_name }}`: the same as the run-{{ cookiecutter.project_slug }} command."""

from .entrypoint import run

if __name__ == "__main__":
    run()
