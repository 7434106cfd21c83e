"""The application's work, between the web and CLI above and the store below.

    publication  results from the final points; freeze, compute, rank intervals, checksum, verify
                 and publish an edition; published editions as portal editions
    edition_setup  a new edition checked against its shipped base edition
    imports      a province's filled workbook: template, preview, apply
    demo         the illustrative edition with simulated answers and demo log-ins

A service may use the store, the engine, the analysis, the shipped editions and ``io``; the store
never imports a service (``tests/test_architecture.py`` holds both rules).  The clock every layer
reads is :mod:`dti.clock`.  Saving an answer (authorise, score, persist, audit) still lives in
:mod:`dti.store.assessments`: it needs only :mod:`dti.scoring`, a layer the store may use.
"""
