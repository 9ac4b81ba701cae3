"""Where the project's folders are: derived from this package's location, never the working directory."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CLIENTS_DIR = PROJECT_ROOT / "clients"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
