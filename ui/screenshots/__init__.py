"""Screenshots of the real windows on a throwaway demo store (main.py screenshot): apart from the product's windows."""
