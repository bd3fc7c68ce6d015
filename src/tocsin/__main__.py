from tocsin.console import main

main()
