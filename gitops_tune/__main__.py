from gitops_tune.cli import run

if __name__ == "__main__":
    run()
