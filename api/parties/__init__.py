"""Parties: sellers, buyers, funders, auditors, operators; onboarded by an operator."""
