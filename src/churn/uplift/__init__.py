"""Uplift: who a retention call changes. A response model fitted on randomized calls (called
against held out), checked out of time with Qini curves against ranking by risk."""
