"""Monthly customer-retention reports for CRM consultants.

The library computes; notebooks narrate; templates present. Importing this package has no side effects.
"""
