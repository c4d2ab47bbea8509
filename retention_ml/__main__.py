from retention_ml.cli import main

main()
