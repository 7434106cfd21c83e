"""Analysis over builds: uncertainty (Monte Carlo), sensitivity (Sobol) and the statistical audit."""
