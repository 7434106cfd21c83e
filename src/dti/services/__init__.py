"""The application's work, between the web and CLI above and the store below.

    publication  results from the final points; freeze, compute, rank intervals, checksum, verify
                 and publish an edition; published editions as portal editions
    edition_setup  a new edition checked against its shipped base edition
    imports      a province's filled workbook: template, preview, apply
    demo         the illustrative edition with simulated answers and demo log-ins
    demo_year    the demo's simulated year: each province's steps on a calendar, played
                 through the workflow's real actions
    assessments  saving, appraising and commenting on an answer; workflow transitions; lock
                 exceptions — authorise, score, compare-and-set, audit in one short transaction

A service may use the store, the engine, the analysis, the shipped editions and ``io``; the store
never imports a service (``tests/test_architecture.py`` holds both rules).  The clock every layer
reads is :mod:`dti.clock`.
"""
