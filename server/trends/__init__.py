"""Blood-pressure trends for doctors: pure numpy analytics, cohort ranking and standard exports."""
