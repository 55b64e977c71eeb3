"""`python -m qa_tui ...`: what `torchrun -m qa_tui train` and `accelerate launch -m qa_tui` start."""

from qa_tui.cli import main

if __name__ == "__main__":
    main()
