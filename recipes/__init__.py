"""The packaged recipes: each module stands alone and can be copied into another project."""
