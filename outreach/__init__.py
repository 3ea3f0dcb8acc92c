"""outreach: call-centre tool for the CMA network (Chambres de Métiers et de l'Artisanat)."""

__version__ = "0.1.0"
