# Training and evaluation of the transformer on all token shards.


rule train:
    input:
        shards=shard_paths("tokens"),
        vocab=rules.vocabulary.output.vocab,
        stamp=TRAIN_STAMP,
    output:
        model=f"{RESULTS}/model/model.pt",
        metrics=f"{RESULTS}/model/metrics.csv",
        lr=report(f"{RESULTS}/reports/learning_rate.png", caption="../report/learning_rate.rst", category="Training"),
        curves=report(f"{RESULTS}/reports/training_curves.png", caption="../report/training_curves.rst", category="Training"),
    params:
        # Undeclared on purpose: Snakemake deletes the declared outputs of a failed job,
        # and checkpoints must survive a crash so that training resumes.
        checkpoint_dir=f"{RESULTS}/model/checkpoints",
        config=config["train"],
    log:
        f"{RESULTS}/logs/train.log",
    benchmark:
        f"{RESULTS}/benchmarks/train.tsv"
    threads: 2
    resources:
        runtime=config["resources"]["train_runtime_min"],
        mem_mb=config["resources"]["train_mem_mb"],
    conda:
        "../../envs/model.yaml"
    script:
        "../scripts/train.py"


rule evaluate:
    input:
        model=rules.train.output.model,
        shards=shard_paths("tokens"),
        vocab=rules.vocabulary.output.vocab,
        stamp=EVALUATE_STAMP,
    output:
        metrics=f"{RESULTS}/evaluation/metrics.json",
        calibration=report(f"{RESULTS}/reports/calibration.png", caption="../report/calibration.rst", category="Evaluation"),
        lengths=report(f"{RESULTS}/reports/accuracy_by_length.png", caption="../report/accuracy_by_length.rst", category="Evaluation"),
    params:
        config=config["evaluate"],
    log:
        f"{RESULTS}/logs/evaluate.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate.tsv"
    threads: 2
    resources:
        runtime=config["resources"]["train_runtime_min"],
        mem_mb=config["resources"]["train_mem_mb"],
    conda:
        "../../envs/model.yaml"
    script:
        "../scripts/evaluate.py"
