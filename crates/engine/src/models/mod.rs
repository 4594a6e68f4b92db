//! Customer-base models (BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma, sBG). To be written.
