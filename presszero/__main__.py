from presszero.cli import main

main()
