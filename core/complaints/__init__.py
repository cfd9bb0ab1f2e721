"""The property complaints back office: registers of companies and estates, complaints
routed through the contract register, inspections, rectification, the integrity score."""
